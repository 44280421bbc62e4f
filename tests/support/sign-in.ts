import type { Kysely } from "kysely";
import type { Database } from "../../server/db/schema";
import { buildUser, type BuildUserInput } from "../factories";
import { ApiClient } from "./http";

/** Creates a person (buildUser) with a password and signs them in: who they are, and their signed-in client. */
export async function signedInPerson(
  db: Kysely<Database>,
  baseUrl: string,
  input: BuildUserInput & { password: string },
): Promise<Awaited<ReturnType<typeof buildUser>> & { client: ApiClient }> {
  const user = await buildUser(db, input);
  const client = new ApiClient(baseUrl);
  const login = await client.login(user.email, input.password);
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { ...user, client };
}
