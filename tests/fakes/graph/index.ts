/** Public surface of the Microsoft Graph fake used by tests (see tests/fakes/README.md). */
export { startGraphFake, type GraphFake } from "./server";
export { createGraphFetch, GRAPH_PUBLIC_BASE_URL, type FetchLike } from "./graph-fetch";
export type { DeliverOptions, FolderView, GraphFakeControls, GraphUserInfo, MessageView } from "./controls";
export type { FaultInjector, FaultMatch, FaultSpec } from "./faults";
export type { MessageInput } from "./mime";
export type { NotificationRecord } from "./notifier";
export type { RequestLogEntry, RetryAfterViolation } from "./request-log";
export type { SentMailRecord } from "./send";
export type { LifecycleEvent, Subscription } from "./subscriptions";
export type { GraphDomainSeed, GraphFakeOptions, GraphTokenAuthority, GraphUserSeed } from "./types";
