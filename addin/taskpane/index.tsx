/**
 * Entry of the task pane and of the portal (same bundle). Outside Office (no `Office` global, or
 * Office.onReady without a host) it runs as the portal with the cookie session. `?shim=1` installs the test
 * Office shim first (loaded on demand, never part of the initial bundle).
 */
import { createRoot } from "react-dom/client";
import { createMailwardApi } from "../api/endpoints";
import { createHttpClient, type AuthStrategy } from "../api/http";
import { detectHost } from "../auth/host";
import { createCookieAuth } from "../auth/strategies";
import { App } from "./App";
import { startFirstViewData } from "./first-view-data";
import { createQueryClient } from "./queryClient";
import { likelyFirstView, preloadFirstView } from "./view-loaders";

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const shim = params.get("shim") === "1";
  // Before the shim's own chunk is fetched: in Outlook, office.js has defined Office before this script runs.
  const firstView = likelyFirstView(location.hash, shim || "Office" in window);
  preloadFirstView(firstView);
  if (shim) {
    const { installOfficeShim } = await import(
      /* webpackChunkName: "office-shim" */ "../testing/office-shim"
    );
    installOfficeShim(params);
  }
  const host = await detectHost({ shim });
  let auth: AuthStrategy;
  if (host.kind === "outlook" && !host.shim) {
    const { createOutlookAuth } = await import(/* webpackChunkName: "outlook-auth" */ "../auth/outlookAuth");
    auth = createOutlookAuth();
  } else {
    auth = createCookieAuth();
  }
  const api = createMailwardApi(createHttpClient({ baseUrl: "", auth }));
  const queryClient = createQueryClient({ recheckSessionOnUnauthenticated: auth.mode === "cookie" });
  startFirstViewData(queryClient, api, firstView);
  const container = document.getElementById("root");
  if (!container) throw new Error("#root is missing from the page");
  createRoot(container).render(<App api={api} host={host} authMode={auth.mode} queryClient={queryClient} />);
}

void boot();
