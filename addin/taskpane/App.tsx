import { FluentProvider } from "@fluentui/react-components";
import { QueryClientProvider, useQuery, type QueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import type { MailwardApi } from "../api/endpoints";
import { ApiError } from "../api/errors";
import type { HostInfo } from "../auth/host";
import { ErrorState, LoadingState } from "./components/states";
import { AppContextProvider } from "./context";
import { createQueryClient } from "./queryClient";
import { Shell } from "./Shell";
import { themeFor, useThemeName } from "./theme";

const SignIn = lazy(() => import("./views/SignIn").then((module) => ({ default: module.SignIn })));

function SessionGate(props: { api: MailwardApi; host: HostInfo; authMode: "bearer" | "cookie" }) {
  const me = useQuery({ queryKey: ["me"], queryFn: () => props.api.me() });
  if (me.isPending) return <LoadingState label="Signing in…" />;
  if (me.isError) {
    const unauthenticated = me.error instanceof ApiError && me.error.status === 401;
    if (unauthenticated && props.authMode === "cookie") {
      return (
        <Suspense fallback={<LoadingState label="Loading sign-in…" />}>
          <SignIn api={props.api} onSignedIn={() => void me.refetch()} />
        </Suspense>
      );
    }
    return (
      <div style={{ padding: 12 }}>
        <ErrorState
          error={me.error}
          title="Mailward couldn't sign you in"
          onRetry={() => void me.refetch()}
        />
      </div>
    );
  }
  return (
    <AppContextProvider value={{ api: props.api, host: props.host, me: me.data }}>
      <Shell authMode={props.authMode} />
    </AppContextProvider>
  );
}

/** The whole UI (task pane and portal): theme, data cache, sign-in gate, then the shell with its views. */
export function App(props: {
  api: MailwardApi;
  host: HostInfo;
  authMode: "bearer" | "cookie";
  queryClient?: QueryClient;
}) {
  const themeName = useThemeName();
  const [queryClient] = useState(() => props.queryClient ?? createQueryClient());
  return (
    <FluentProvider theme={themeFor(themeName)} data-theme={themeName} style={{ minHeight: "100vh" }}>
      <QueryClientProvider client={queryClient}>
        <SessionGate api={props.api} host={props.host} authMode={props.authMode} />
      </QueryClientProvider>
    </FluentProvider>
  );
}
