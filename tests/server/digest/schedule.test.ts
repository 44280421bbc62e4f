import { describe, expect, it } from "vitest";
import { latestDigestSlot, zonedTime } from "../../../server/mail/digest/schedule";
import { selfServiceSettingsOf, SELF_SERVICE_DEFAULTS } from "../../../server/mail/digest/settings";

describe("digest schedule", () => {
  it("defaults to 08:00 and 16:00 UTC and 120-day auto-permits", () => {
    expect(selfServiceSettingsOf({})).toEqual(SELF_SERVICE_DEFAULTS);
    expect(SELF_SERVICE_DEFAULTS).toMatchObject({
      digestTimes: ["08:00", "16:00"],
      autoPermitDays: 120,
    });
  });

  it("reads the tenant's settings and ignores malformed ones", () => {
    expect(
      selfServiceSettingsOf({
        timeZone: "Europe/Berlin",
        digestTimes: ["17:30", "07:15", "07:15"],
        quarantineRetentionDays: 30,
        autoPermitDays: 10,
      }),
    ).toEqual({
      timeZone: "Europe/Berlin",
      digestTimes: ["07:15", "17:30"],
      autoPermitDays: 10,
    });
    expect(
      selfServiceSettingsOf({
        timeZone: "Mars/Olympus",
        digestTimes: ["25:00"],
        quarantineRetentionDays: -1,
      }),
    ).toEqual(SELF_SERVICE_DEFAULTS);
    expect(selfServiceSettingsOf({ digestTimes: [] }).digestTimes).toEqual([]);
  });

  it("finds the latest slot in the tenant's time zone, across midnight", () => {
    const utc = { timeZone: "UTC", digestTimes: ["08:00", "16:00"] };
    expect(latestDigestSlot(utc, new Date("2024-03-05T12:00:00Z"))?.toISOString()).toBe(
      "2024-03-05T08:00:00.000Z",
    );
    expect(latestDigestSlot(utc, new Date("2024-03-05T16:00:00Z"))?.toISOString()).toBe(
      "2024-03-05T16:00:00.000Z",
    );
    expect(latestDigestSlot(utc, new Date("2024-03-05T07:59:59Z"))?.toISOString()).toBe(
      "2024-03-04T16:00:00.000Z",
    );
    const berlin = { timeZone: "Europe/Berlin", digestTimes: ["08:00", "16:00"] };
    expect(latestDigestSlot(berlin, new Date("2024-01-10T07:30:00Z"))?.toISOString()).toBe(
      "2024-01-10T07:00:00.000Z",
    );
    expect(latestDigestSlot(berlin, new Date("2024-07-10T06:30:00Z"))?.toISOString()).toBe(
      "2024-07-10T06:00:00.000Z",
    );
    expect(latestDigestSlot({ timeZone: "UTC", digestTimes: [] }, new Date())).toBeNull();
  });

  it("handles daylight-saving changes", () => {
    // New York springs forward on 2024-03-10: 08:00 local is 12:00Z that day, 13:00Z the day before.
    expect(zonedTime(2024, 3, 9, 8, 0, "America/New_York").toISOString()).toBe("2024-03-09T13:00:00.000Z");
    expect(zonedTime(2024, 3, 10, 8, 0, "America/New_York").toISOString()).toBe("2024-03-10T12:00:00.000Z");
    expect(zonedTime(2024, 11, 3, 16, 0, "America/New_York").toISOString()).toBe("2024-11-03T21:00:00.000Z");
    expect(zonedTime(2024, 6, 1, 8, 0, "Asia/Kolkata").toISOString()).toBe("2024-06-01T02:30:00.000Z");
  });
});
