import { runCommand, type Actor, type CommandContext, type Services } from "../../context";
import { ApiError } from "../../http/errors";
import { claimSignInAttempt, recordFailure, releaseSignInAttempt } from "./lockout";

/** A TOTP code refused inside a command (wrong, or a step already used): counted against the sign-in lockout. */
export class WrongCodeError extends ApiError {
  constructor(readonly replayed: boolean) {
    super("invalid_mfa_code");
  }
}

/**
 * Runs a signed-in person's command that checks one of their own TOTP codes under the sign-in lockout, so a session
 * (a stolen cookie, an unlocked machine) cannot guess codes without limit: the attempt is claimed before the code is
 * checked (423 account_locked while locked), a WrongCodeError counts and audits it as a failed sign-in (reason
 * `purpose`, or `purpose_replay`), and a success or any other refusal gives the attempt back. The failure is recorded
 * after the command's transaction rolled back, as the sign-in does.
 */
export async function runCodeCheckedCommand<T>(
  services: Services,
  actor: Actor,
  ip: string | null,
  purpose: string,
  work: (ctx: CommandContext) => Promise<T>,
): Promise<T> {
  const claim = await claimSignInAttempt(services.db, services, actor.userId);
  if (!claim) throw new ApiError("account_locked");
  try {
    return await runCommand(services, actor, ip, async (ctx) => {
      const result = await work(ctx);
      await releaseSignInAttempt(ctx.trx, services, actor.userId, claim);
      return result;
    });
  } catch (err) {
    if (!(err instanceof WrongCodeError)) {
      await releaseSignInAttempt(services.db, services, actor.userId, claim);
      throw err;
    }
    await recordFailure(services.db, services, {
      tenantId: actor.tenantId,
      userId: actor.userId,
      email: actor.email,
      origin: { ip, userAgent: null },
      reason: err.replayed ? `${purpose}_replay` : purpose,
      claim,
    });
    throw err;
  }
}
