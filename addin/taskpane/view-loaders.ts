import type { ComponentType } from "react";
import { VIEW_IDS, type ViewId } from "./context";

/** What every view takes: the item to open in it, if one was asked for. */
export type ViewProps = { itemId?: string };

type ViewModule = { default: ComponentType<ViewProps> };

/**
 * Each view's code, loaded on demand (its own chunks, out of the initial bundle): the Shell renders them lazily, and
 * the page starts the first one early (preloadFirstView). Loading a view twice asks for its chunks once. The chunk
 * names (view-<id>) are what the build's PreloadFirstViewPlugin names in each page's <head>.
 */
export const VIEW_LOADERS: Record<ViewId, () => Promise<ViewModule>> = {
  message: () =>
    import(/* webpackChunkName: "view-message" */ "./views/ThisMessage").then((m) => ({
      default: m.ThisMessageView,
    })),
  held: () =>
    import(/* webpackChunkName: "view-held" */ "./views/held/HeldView").then((m) => ({
      default: m.HeldView,
    })),
  review: () =>
    import(/* webpackChunkName: "view-review" */ "./views/review/ReviewView").then((m) => ({
      default: m.ReviewView,
    })),
  archive: () =>
    import(/* webpackChunkName: "view-archive" */ "./views/archive/ArchiveView").then((m) => ({
      default: m.ArchiveView,
    })),
  senders: () =>
    import(/* webpackChunkName: "view-senders" */ "./views/senders/SendersView").then((m) => ({
      default: m.SendersView,
    })),
  settings: () =>
    import(/* webpackChunkName: "view-settings" */ "./views/settings/SettingsView").then((m) => ({
      default: m.SettingsView,
    })),
};

/**
 * The view a page will most likely open on: the one its address names, else This message in Outlook and the held
 * list elsewhere (the Shell's own choice, before it knows the person's permissions).
 */
export function likelyFirstView(hash: string, inOutlook: boolean): ViewId {
  const named = hash.replace(/^#/, "").split("/")[0];
  const known = VIEW_IDS.find((id) => id === named);
  return known ?? (inOutlook ? "message" : "held");
}

/**
 * Starts loading the first view's chunks while the app is still starting: they were asked for only once the
 * person's identity had answered, one more round trip before a task pane could be used. A failure here is left to
 * the view's own loading, which asks again and shows it.
 */
export function preloadFirstView(view: ViewId): void {
  VIEW_LOADERS[view]().catch(() => undefined);
}
