import { randomBytes, randomUUID } from "node:crypto";
import { GraphError, type GraphDomainSeed, type GraphGroupSeed, type GraphUserSeed } from "./types";
import { addMembers, newGroup, type StoredGroup } from "./groups";
import type { ChangeEvent, StoreChange, StoredFolder, StoredMessage, StoredUser } from "./store-types";

export type { StoredGroup } from "./groups";
export type {
  ChangeEvent,
  InboxRule,
  Mailbox,
  MessageFields,
  StoreChange,
  StoredFolder,
  StoredMessage,
  StoredUser,
} from "./store-types";

const WELL_KNOWN: [string, string][] = [
  ["inbox", "Inbox"],
  ["sentitems", "Sent Items"],
  ["deleteditems", "Deleted Items"],
  ["junkemail", "Junk Email"],
  ["drafts", "Drafts"],
  ["archive", "Archive"],
  ["outbox", "Outbox"],
];

/** A fresh Exchange-looking REST id (regular ids start AAMk, immutable AAkAL, folders AQMk). */
export function newId(prefix: "AAMkAG" | "AAkALg" | "AQMkAD"): string {
  return `${prefix}${randomBytes(36).toString("base64url")}AAA=`;
}

/** The fake mailboxes: users, folders, messages and per-folder change history. */
export class MailStore {
  readonly users = new Map<string, StoredUser>();
  readonly groups = new Map<string, StoredGroup>();
  /** The directory's domains, by lower-case name. */
  readonly domains = new Map<string, { id: string; isVerified: boolean }>();
  private listeners: ((change: StoreChange) => void)[] = [];

  /** Registers a listener for message changes (used by subscriptions). */
  onChange(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
  }

  /** Adds a domain to the directory, or changes whether it is verified. */
  addDomain(seed: GraphDomainSeed): void {
    this.domains.set(seed.id.toLowerCase(), {
      id: seed.id.toLowerCase(),
      isVerified: seed.isVerified ?? true,
    });
  }

  /** Creates a directory group with its direct members. */
  addGroup(seed: GraphGroupSeed): StoredGroup {
    const group = newGroup(seed);
    this.groups.set(group.id, group);
    addMembers(this, group, seed.members ?? []);
    return group;
  }

  /** Creates a user with the well-known folders. */
  addUser(seed: GraphUserSeed): StoredUser {
    const id = seed.id ?? randomUUID();
    const root: StoredFolder = {
      id: newId("AQMkAD"),
      displayName: "Top of Information Store",
      parentFolderId: "",
      wellKnownName: "msgfolderroot",
      isHidden: false,
    };
    const user: StoredUser = {
      id,
      userPrincipalName: seed.userPrincipalName,
      displayName: seed.displayName ?? seed.userPrincipalName.split("@")[0] ?? seed.userPrincipalName,
      mail: seed.mail ?? seed.userPrincipalName,
      proxyAddresses:
        seed.mailbox === false
          ? []
          : (seed.proxyAddresses ?? [`SMTP:${seed.mail ?? seed.userPrincipalName}`]),
      hasMailbox: seed.mailbox !== false,
      folders: new Map([[root.id, root]]),
      messages: new Map(),
      restIndex: new Map(),
      changes: [],
      seq: 0,
      rules: [],
    };
    for (const [wellKnownName, displayName] of WELL_KNOWN) {
      const folder: StoredFolder = {
        id: newId("AQMkAD"),
        displayName,
        parentFolderId: root.id,
        wellKnownName,
        isHidden: false,
      };
      user.folders.set(folder.id, folder);
    }
    this.users.set(id, user);
    return user;
  }

  /**
   * The user a Graph path segment or subscription resource names. Graph documents user-scoped paths as
   * `/users/{id | userPrincipalName}`: the object id or the sign-in name, in any case; a mail address that is not the
   * sign-in name names nobody. The pipeline (every `/users/{x}/...` route and $batch sub-request), GET /users/{x} and
   * subscription resources all resolve users through this one lookup, so none of them is more lenient than Graph.
   */
  findUserByIdOrUpn(idOrUpn: string): StoredUser | undefined {
    const key = idOrUpn.toLowerCase();
    for (const user of this.users.values()) {
      if (user.id.toLowerCase() === key || user.userPrincipalName.toLowerCase() === key) return user;
    }
    return undefined;
  }

  /**
   * A user by object id, userPrincipalName or mail (case-insensitive): for the fake's own controls, seeding and
   * internal delivery to an address, never for what a Graph request names (that is `findUserByIdOrUpn`).
   */
  findUserByIdUpnOrMail(key: string): StoredUser | undefined {
    const lower = key.toLowerCase();
    return (
      this.findUserByIdOrUpn(key) ??
      [...this.users.values()].find((user) => user.mail.toLowerCase() === lower)
    );
  }

  /** Finds a folder by id or well-known name; throws Graph's 404 otherwise. */
  folder(user: StoredUser, idOrName: string): StoredFolder {
    const key = idOrName.toLowerCase();
    for (const folder of user.folders.values()) {
      if (folder.id === idOrName || folder.wellKnownName === key) return folder;
    }
    throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
  }

  /** Child folders of a folder, hiding hidden ones unless asked (like includeHiddenFolders=true). */
  childFolders(user: StoredUser, parentId: string, includeHidden: boolean): StoredFolder[] {
    return [...user.folders.values()].filter(
      (folder) => folder.parentFolderId === parentId && (includeHidden || !folder.isHidden),
    );
  }

  /** Creates a child folder; a sibling with the same name is Graph's 409 ErrorFolderExists. */
  createFolder(user: StoredUser, parentId: string, displayName: string, isHidden: boolean): StoredFolder {
    const taken = [...user.folders.values()].some(
      (folder) =>
        folder.parentFolderId === parentId && folder.displayName.toLowerCase() === displayName.toLowerCase(),
    );
    if (taken)
      throw new GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.");
    const folder: StoredFolder = {
      id: newId("AQMkAD"),
      displayName,
      parentFolderId: parentId,
      wellKnownName: undefined,
      isHidden,
    };
    user.folders.set(folder.id, folder);
    return folder;
  }

  /** Finds a message by immutable id or by its current REST id; a stale REST id is 404 like Exchange. */
  message(user: StoredUser, id: string): StoredMessage {
    const found = user.messages.get(id) ?? user.messages.get(user.restIndex.get(id) ?? "");
    if (!found)
      throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
    return found;
  }

  /** Messages of one folder, or of the whole mailbox. */
  messagesIn(user: StoredUser, folderId?: string): StoredMessage[] {
    return [...user.messages.values()].filter(
      (message) => folderId === undefined || message.folderId === folderId,
    );
  }

  /** Adds a message to a folder. */
  addMessage(
    user: StoredUser,
    folderId: string,
    message: Omit<StoredMessage, "immutableId" | "restId" | "folderId">,
  ): StoredMessage {
    const stored: StoredMessage = {
      ...message,
      immutableId: newId("AAkALg"),
      restId: newId("AAMkAG"),
      folderId,
    };
    user.messages.set(stored.immutableId, stored);
    user.restIndex.set(stored.restId, stored.immutableId);
    this.record(user, stored, "added", false);
    return stored;
  }

  /** Moves a message: it gets a new REST id (its immutable id stays) and each folder records the change. */
  moveMessage(user: StoredUser, message: StoredMessage, destinationId: string): StoredMessage {
    if (message.folderId === destinationId) return message;
    this.record(user, message, "removed", true);
    user.restIndex.delete(message.restId);
    message.restId = newId("AAMkAG");
    message.folderId = destinationId;
    user.restIndex.set(message.restId, message.immutableId);
    this.touch(message);
    this.record(user, message, "added", true);
    return message;
  }

  /** Applies property updates (isRead, categories, ...) and records an update. */
  updateMessage(
    user: StoredUser,
    message: StoredMessage,
    patch: Partial<Pick<StoredMessage, "isRead" | "categories" | "importance" | "flagStatus">>,
  ): void {
    Object.assign(message, patch);
    this.touch(message);
    this.record(user, message, "updated", false);
  }

  /** Deletes a message from the mailbox. */
  deleteMessage(user: StoredUser, message: StoredMessage): void {
    this.record(user, message, "removed", false);
    user.messages.delete(message.immutableId);
    user.restIndex.delete(message.restId);
  }

  private touch(message: StoredMessage): void {
    message.lastModifiedDateTime = new Date().toISOString();
    message.changeKey = randomBytes(12).toString("base64");
  }

  private record(user: StoredUser, message: StoredMessage, kind: ChangeEvent["kind"], isMove: boolean): void {
    user.seq += 1;
    user.changes.push({
      seq: user.seq,
      folderId: message.folderId,
      immutableId: message.immutableId,
      restId: message.restId,
      kind,
    });
    const change: StoreChange = {
      user,
      message,
      folderId: message.folderId,
      restIdInFolder: message.restId,
      kind,
      isMove,
    };
    for (const listener of this.listeners) listener(change);
  }
}
