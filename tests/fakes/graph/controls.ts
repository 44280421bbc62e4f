import type { FaultInjector } from "./faults";
import { addMembers, removeMembers } from "./groups";
import { composeMime, parseMime, type MessageInput } from "./mime";
import type { NotificationRecord } from "./notifier";
import type { RequestLog, RequestLogEntry, RetryAfterViolation } from "./request-log";
import { storeParsed, type MailSender, type SentMailRecord } from "./send";
import type { Mailbox, MailStore, StoredFolder, StoredGroup, StoredMessage, StoredUser } from "./store";
import type { LifecycleEvent, Subscription, SubscriptionService } from "./subscriptions";
import type { GraphDomainSeed, GraphGroupSeed, GraphUserSeed } from "./types";

/** A user as tests see it, with the ids of the well-known folders. */
export interface GraphUserInfo {
  id: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
  folderIds: Record<string, string>;
}

/** A message as tests see it (both id forms, and where it is). */
export interface MessageView {
  immutableId: string;
  /** The current regular id (changes when the message moves). */
  restId: string;
  folderId: string;
  /** Well-known name (inbox, junkemail, ...) or display name of the folder. */
  folderName: string;
  internetMessageId: string;
  subject: string;
  from: Mailbox | undefined;
  to: Mailbox[];
  isRead: boolean;
  receivedDateTime: string;
}

/** A folder as tests see it. */
export interface FolderView {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName: string | undefined;
  isHidden: boolean;
}

/** Options of deliver(). */
export interface DeliverOptions {
  /** Folder id or well-known name. Default "inbox". */
  folder?: string;
  /** Post change notifications (default true); false simulates a notification Graph lost. */
  notify?: boolean;
  /** Wait until notifications were delivered (default true). */
  awaitNotifications?: boolean;
  receivedDateTime?: Date;
}

/** Test-side controls of the Graph fake: seed and inspect mailboxes, drive subscriptions, inject faults, read logs. */
export interface GraphFakeControls {
  addUser(seed: GraphUserSeed): GraphUserInfo;
  user(idOrUpn: string): GraphUserInfo;
  /** Deletes a user from the directory (someone left): GET /users no longer lists them. */
  removeUser(idOrUpn: string): void;
  /** Adds a domain to the directory (verified unless said otherwise), or changes whether it is verified. */
  addDomain(seed: GraphDomainSeed): void;
  /** Adds a directory group (a distribution list, a Microsoft 365 group). */
  addGroup(seed: GraphGroupSeed): StoredGroup;
  /** The stored group, changeable in place (the directory changed), or a 404-like error. */
  group(idOrDisplayName: string): StoredGroup;
  /** Adds direct members to a group (user ids, UPNs or mail; nested group ids), as an admin would in Entra. */
  addGroupMembers(group: string, members: string[]): StoredGroup;
  /** Removes direct members from a group (one also in a nested group stays a transitive member). */
  removeGroupMembers(group: string, members: string[]): StoredGroup;
  /** Changes a user in the directory (a rename, new or dropped proxy addresses), as an admin would in Entra. */
  updateUser(idOrUpn: string, change: { displayName?: string; proxyAddresses?: string[] }): GraphUserInfo;
  /** "Delivers" mail (raw MIME or fields) into a folder, posting change notifications to matching subscriptions. */
  deliver(
    user: string,
    input: Buffer | string | MessageInput,
    options?: DeliverOptions,
  ): Promise<MessageView>;
  createFolder(
    user: string,
    displayName: string,
    options?: { parent?: string; isHidden?: boolean },
  ): FolderView;
  /** All folders of a mailbox, hidden ones included. */
  folders(user: string): FolderView[];
  messages(user: string, folder?: string): MessageView[];
  findMessage(user: string, internetMessageId: string): MessageView | undefined;
  /** Moves a message as the user would in Outlook (notifications and delta follow). */
  moveMessage(user: string, messageId: string, destination: string): MessageView;
  updateMessage(
    user: string,
    messageId: string,
    patch: { isRead?: boolean; categories?: string[] },
  ): MessageView;
  deleteMessage(user: string, messageId: string): void;
  mime(user: string, messageId: string): Buffer;
  subscriptions(): Subscription[];
  /** Ends a subscription now, as if its expirationDateTime had passed. */
  expireSubscription(id: string): void;
  /** Posts a lifecycle notification; subscriptionRemoved deletes it; pauseDelivery holds change notifications. */
  sendLifecycleNotification(
    id: string,
    event: LifecycleEvent,
    options?: { pauseDelivery?: boolean },
  ): Promise<NotificationRecord>;
  /** Moves the fake's clock (subscription expiry) forward. */
  advanceTime(ms: number): void;
  now(): Date;
  /** Drops every change notification while true (Graph "lost" them). */
  pauseNotifications(paused: boolean): void;
  /** Validation requests, change and lifecycle notifications, every attempt. */
  notifications: NotificationRecord[];
  notificationsSettled(): Promise<void>;
  faults: FaultInjector;
  requestLog: RequestLogEntry[];
  clearRequestLog(): void;
  /** Peak concurrent requests that reached a mailbox (refused ones included). */
  maxInFlight(mailbox?: string): number;
  retryAfterViolations(toleranceMs?: number): RetryAfterViolation[];
  sentMail: SentMailRecord[];
  /** Waits until background delivery of sent mail (internal and SMTP) has finished. */
  mailSettled(): Promise<void>;
}

/** Builds the controls over the fake's internals. */
export function createControls(deps: {
  store: MailStore;
  faults: FaultInjector;
  log: RequestLog;
  subscriptions: SubscriptionService;
  sender: MailSender;
}): GraphFakeControls {
  const { store, subscriptions } = deps;
  const userOf = (key: string): StoredUser => {
    const found = store.findUserByIdUpnOrMail(key);
    if (!found) throw new Error(`Graph fake: no user '${key}'`);
    return found;
  };
  const groupOf = (key: string): StoredGroup => {
    const group = [...store.groups.values()].find((g) => g.id === key || g.displayName === key);
    if (!group) throw new Error(`no group ${key}`);
    return group;
  };
  const folderView = (folder: StoredFolder): FolderView => ({
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    wellKnownName: folder.wellKnownName,
    isHidden: folder.isHidden,
  });
  const view = (user: StoredUser, message: StoredMessage): MessageView => {
    const folder = user.folders.get(message.folderId);
    return {
      immutableId: message.immutableId,
      restId: message.restId,
      folderId: message.folderId,
      folderName: folder?.wellKnownName ?? folder?.displayName ?? "",
      internetMessageId: message.fields.internetMessageId,
      subject: message.fields.subject,
      from: message.fields.from,
      to: message.fields.to,
      isRead: message.isRead,
      receivedDateTime: message.receivedDateTime,
    };
  };
  const info = (user: StoredUser): GraphUserInfo => ({
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail,
    displayName: user.displayName,
    folderIds: Object.fromEntries(
      [...user.folders.values()].flatMap((f) => (f.wellKnownName ? [[f.wellKnownName, f.id]] : [])),
    ),
  });
  return {
    addUser: (seed) => info(store.addUser(seed)),
    user: (key) => info(userOf(key)),
    removeUser: (key) => {
      store.users.delete(userOf(key).id);
    },
    addDomain: (seed) => store.addDomain(seed),
    addGroup: (seed) => store.addGroup(seed),
    group: (key) => groupOf(key),
    addGroupMembers: (key, members) => {
      const group = groupOf(key);
      addMembers(store, group, members);
      return group;
    },
    removeGroupMembers: (key, members) => {
      const group = groupOf(key);
      removeMembers(store, group, members);
      return group;
    },
    updateUser: (key, change) => {
      const user = userOf(key);
      if (change.displayName !== undefined) user.displayName = change.displayName;
      if (change.proxyAddresses !== undefined) user.proxyAddresses = [...change.proxyAddresses];
      return info(user);
    },
    deliver: async (key, input, options = {}) => {
      const user = userOf(key);
      const mime = Buffer.isBuffer(input)
        ? input
        : typeof input === "string"
          ? Buffer.from(input)
          : await composeMime(input);
      const folder = store.folder(user, options.folder ?? "inbox");
      const fields = await parseMime(mime);
      const paused = subscriptions.deliveryPaused;
      if (options.notify === false) subscriptions.deliveryPaused = true;
      let message: StoredMessage;
      try {
        message = storeParsed(store, user, folder.id, mime, fields, {
          receivedDateTime: options.receivedDateTime?.toISOString(),
        });
      } finally {
        subscriptions.deliveryPaused = paused;
      }
      if (options.awaitNotifications !== false) await subscriptions.settled();
      return view(user, message);
    },
    createFolder: (key, displayName, options = {}) => {
      const user = userOf(key);
      const parent = store.folder(user, options.parent ?? "msgfolderroot");
      return folderView(store.createFolder(user, parent.id, displayName, options.isHidden ?? false));
    },
    folders: (key) => [...userOf(key).folders.values()].map(folderView),
    messages: (key, folder) => {
      const user = userOf(key);
      return store
        .messagesIn(user, folder === undefined ? undefined : store.folder(user, folder).id)
        .map((m) => view(user, m));
    },
    findMessage: (key, internetMessageId) => {
      const user = userOf(key);
      const found = store.messagesIn(user).find((m) => m.fields.internetMessageId === internetMessageId);
      return found ? view(user, found) : undefined;
    },
    moveMessage: (key, id, destination) => {
      const user = userOf(key);
      return view(user, store.moveMessage(user, store.message(user, id), store.folder(user, destination).id));
    },
    updateMessage: (key, id, patch) => {
      const user = userOf(key);
      const message = store.message(user, id);
      store.updateMessage(user, message, patch);
      return view(user, message);
    },
    deleteMessage: (key, id) => {
      const user = userOf(key);
      store.deleteMessage(user, store.message(user, id));
    },
    mime: (key, id) => store.message(userOf(key), id).mime,
    subscriptions: () => {
      subscriptions.sweep();
      return [...subscriptions.subscriptions.values()];
    },
    expireSubscription: (id) => {
      const subscription = subscriptions.subscriptions.get(id);
      if (subscription) subscription.expiresAt = subscriptions.now() - 1;
      subscriptions.sweep();
    },
    sendLifecycleNotification: (id, event, options) => subscriptions.lifecycle(id, event, options),
    advanceTime: (ms) => subscriptions.advanceTime(ms),
    now: () => new Date(subscriptions.now()),
    pauseNotifications: (paused) => {
      subscriptions.deliveryPaused = paused;
    },
    notifications: subscriptions.notifications,
    notificationsSettled: () => subscriptions.settled(),
    faults: deps.faults,
    requestLog: deps.log.entries,
    clearRequestLog: () => deps.log.clear(),
    maxInFlight: (mailbox) => deps.log.maxInFlight(mailbox === undefined ? undefined : userOf(mailbox).id),
    retryAfterViolations: (toleranceMs) => deps.log.retryAfterViolations(toleranceMs),
    sentMail: deps.sender.sent,
    mailSettled: () => deps.sender.settled(),
  };
}
