// The records the fake's mailbox store keeps (users, folders, messages, change history, inbox rules), apart from the
// store's behaviour (store.ts), which re-exports them.

/** A name and SMTP address, as in Graph's emailAddress. */
export interface Mailbox {
  name: string;
  address: string;
}

/** What the fake knows about a message's content (parsed from its MIME). */
export interface MessageFields {
  subject: string;
  from: Mailbox | undefined;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  internetMessageId: string;
  sentDateTime: string;
  bodyText: string;
  bodyHtml: string | undefined;
  hasAttachments: boolean;
  headers: { name: string; value: string }[];
}

/** A message in a mailbox: stable immutable id, a REST id that changes on move (like Exchange). */
export interface StoredMessage {
  immutableId: string;
  restId: string;
  folderId: string;
  conversationId: string;
  mime: Buffer;
  fields: MessageFields;
  receivedDateTime: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  changeKey: string;
  isRead: boolean;
  isDraft: boolean;
  categories: string[];
  importance: string;
  flagStatus: string;
}

/** A mail folder; ids never change (Exchange container ids are already constant). */
export interface StoredFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName: string | undefined;
  isHidden: boolean;
}

/** One entry of a folder's change history, which delta queries read. */
export interface ChangeEvent {
  seq: number;
  folderId: string;
  immutableId: string;
  /** The REST id the message had in that folder at the time. */
  restId: string;
  kind: "added" | "updated" | "removed";
}

/** An inbox rule (messageRule) as the fake applies it at delivery. */
export interface InboxRule {
  id: string;
  displayName: string;
  sequence: number;
  isEnabled: boolean;
  fromAddresses: string[];
  senderContains: string[];
  subjectContains: string[];
  moveToFolder: string | undefined;
  delete: boolean;
  markAsRead: boolean;
  stopProcessingRules: boolean;
}

/** A user and their mailbox. */
export interface StoredUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string;
  /** Changeable by a test (the directory changed): GET /users lists them as they are. */
  proxyAddresses: string[];
  /** Whether the user has an Exchange Online mailbox (GraphUserSeed.mailbox). */
  hasMailbox: boolean;
  folders: Map<string, StoredFolder>;
  messages: Map<string, StoredMessage>;
  restIndex: Map<string, string>;
  changes: ChangeEvent[];
  seq: number;
  rules: InboxRule[];
}

/** A change to a message that subscriptions may be told about. */
export interface StoreChange {
  user: StoredUser;
  message: StoredMessage;
  folderId: string;
  restIdInFolder: string;
  kind: ChangeEvent["kind"];
  /** True when the change is one half of a move (removed from one folder, added to another). */
  isMove: boolean;
}
