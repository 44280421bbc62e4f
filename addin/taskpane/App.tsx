import { FluentProvider } from "@fluentui/react-components";
import { QueryClientProvider, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import type { MailwardApi } from "../api/endpoints";
import { ApiError } from "../api/errors";
import type { HostInfo } from "../auth/host";
import { ErrorState, LoadingState } from "./components/states";
import { AppContextProvider } from "./context";
import { meQuery } from "./first-view-data";
import { createQueryClient } from "./queryClient";
import { Shell } from "./Shell";
import { themeFor, useThemeName } from "./theme";

const EnrolmentGate = lazy(() =>
  import("./EnrolmentGate").then((module) => ({ default: module.EnrolmentGate })),
);
const SignIn = lazy(() => import("./views/SignIn").then((module) => ({ default: module.SignIn })));

function SessionGate(props: { api: MailwardApi; host: HostInfo; authMode: "bearer" | "cookie" }) {
  const queryClient = useQueryClient();
  const me = useQuery(meQuery(props.api));
  if (me.isPending) return <LoadingState label="Signing in…" />;
  if (me.isError) {
    const unauthenticated = me.error instanceof ApiError && me.error.status === 401;
    if (unauthenticated && props.authMode === "cookie") {
      return (
        <Suspense fallback={<LoadingState label="Loading sign-in…" />}>
          {/* Reset, not refetch: after a session that ended mid-use, someone else may be signing in, and the
              answers cached for the person before must not be shown to them. */}
          <SignIn api={props.api} onSignedIn={() => void queryClient.resetQueries()} />
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
      {me.data.mfaEnrolmentRequired ? (
        <Suspense fallback={<LoadingState label="Loading two-step sign-in setup…" />}>
          <EnrolmentGate authMode={props.authMode} />
        </Suspense>
      ) : (
        <Shell authMode={props.authMode} />
      )}
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
  const [queryClient] = useState(
    () =>
      props.queryClient ??
      createQueryClient({ recheckSessionOnUnauthenticated: props.authMode === "cookie" }),
  );
  return (
    <FluentProvider theme={themeFor(themeName)} data-theme={themeName} style={{ minHeight: "100vh" }}>
      <QueryClientProvider client={queryClient}>
        <SessionGate api={props.api} host={props.host} authMode={props.authMode} />
      </QueryClientProvider>
    </FluentProvider>
  );
}
