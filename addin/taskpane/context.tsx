import { createContext, useContext, type ReactNode } from "react";
import type { Permission } from "../../shared/permissions";
import type { Me } from "../../shared/schemas/me";
import type { MailwardApi } from "../api/endpoints";
import type { HostInfo } from "../auth/host";

/** What every view needs: the API client, where we run, and (once signed in) who the person is. */
export interface AppContextValue {
  api: MailwardApi;
  host: HostInfo;
  me: Me | null;
}

const AppContext = createContext<AppContextValue | null>(null);

/** Provides the app context to the tree. */
export function AppContextProvider(props: { value: AppContextValue; children: ReactNode }) {
  return <AppContext.Provider value={props.value}>{props.children}</AppContext.Provider>;
}

/** The app context; throws if a view is rendered outside the provider (a programming error). */
export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside AppContextProvider");
  return value;
}

/** The typed API client. */
export function useApi(): MailwardApi {
  return useApp().api;
}

/** True when the signed-in person has the permission (the server still checks; this only hides controls). */
export function useCan(permission: Permission): boolean {
  return useApp().me?.permissions.includes(permission) ?? false;
}

/** The views of the app, in tab order. */
export const VIEW_IDS = ["message", "held", "review", "archive", "senders", "settings"] as const;
/** One view id. */
export type ViewId = (typeof VIEW_IDS)[number];

/** Where to go: a view, optionally opening one item in it. */
export interface NavTarget {
  view: ViewId;
  itemId?: string;
}

const NavContext = createContext<(target: NavTarget) => void>(() => undefined);

/** Provides navigation between views. */
export function NavProvider(props: { navigate: (target: NavTarget) => void; children: ReactNode }) {
  return <NavContext.Provider value={props.navigate}>{props.children}</NavContext.Provider>;
}

/** Navigates to another view (e.g. from "This message" to its held item). */
export function useNavigate(): (target: NavTarget) => void {
  return useContext(NavContext);
}
