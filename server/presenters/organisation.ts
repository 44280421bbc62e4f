import type { PartnerGroup, Team } from "../../shared/schemas/organisation";
import type { PartnerRecord, TeamRecord } from "../commands/organisation/queries";

/** The admin API's view of a team: its partner group (null: in-house), its member count and its leads. */
export function presentTeam(team: TeamRecord): Team {
  return {
    id: team.id,
    name: team.name,
    partner: team.partnerId ? { id: team.partnerId, name: team.partnerName ?? "" } : null,
    members: team.members,
    leads: team.leads,
  };
}

/** The admin API's view of a partner group: how many people and teams belong to it. */
export function presentPartner(partner: PartnerRecord): PartnerGroup {
  return { id: partner.id, name: partner.name, members: partner.members, teams: partner.teams };
}
