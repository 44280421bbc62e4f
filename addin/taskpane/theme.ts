import { teamsHighContrastTheme, webDarkTheme, webLightTheme, type Theme } from "@fluentui/react-components";
import { useEffect, useState } from "react";

/** The three looks the UI supports. */
export type ThemeName = "light" | "dark" | "contrast";

/** Relative luminance (0 black … 1 white) of a #rrggbb colour, or null if it is not one. */
export function luminance(hex: string): number | null {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!match) return null;
  const [r, g, b] = [match[1], match[2], match[3]].map((part) => {
    const channel = parseInt(part ?? "0", 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

function media(query: string): boolean {
  try {
    return typeof matchMedia === "function" && matchMedia(query).matches;
  } catch {
    return false;
  }
}

/** Picks the theme: forced colours win, then Office's theme (in Outlook), then the OS preference. */
export function pickThemeName(): ThemeName {
  if (media("(forced-colors: active)")) return "contrast";
  try {
    const background =
      typeof Office === "undefined" ? undefined : Office.context?.officeTheme?.bodyBackgroundColor;
    const light = background ? luminance(background) : null;
    if (light !== null) return light < 0.4 ? "dark" : "light";
  } catch {
    // officeTheme is not available in every host.
  }
  return media("(prefers-color-scheme: dark)") ? "dark" : "light";
}

/** The Fluent theme object for a name. */
export function themeFor(name: ThemeName): Theme {
  return name === "contrast" ? teamsHighContrastTheme : name === "dark" ? webDarkTheme : webLightTheme;
}

/** The current theme name, following OS and Office theme changes while the pane is open. */
export function useThemeName(): ThemeName {
  const [name, setName] = useState<ThemeName>(pickThemeName);
  useEffect(() => {
    const update = () => setName(pickThemeName());
    const queries = ["(forced-colors: active)", "(prefers-color-scheme: dark)"]
      .map((query) => (typeof matchMedia === "function" ? matchMedia(query) : null))
      .filter((query): query is MediaQueryList => query !== null);
    for (const query of queries) query.addEventListener?.("change", update);
    try {
      Office.context.mailbox.addHandlerAsync(Office.EventType.OfficeThemeChanged, update);
    } catch {
      // Not in Outlook, or the host has no theme event.
    }
    return () => {
      for (const query of queries) query.removeEventListener?.("change", update);
    };
  }, []);
  return name;
}
