import type { Config } from "../config";
import { ApiError } from "../http/errors";

/** Passwords people pick first; refused whatever the length rules say (a short list; argon2id does the rest). */
const COMMON = new Set([
  "password",
  "password1",
  "password123",
  "passw0rd",
  "123456789012",
  "qwertyuiop",
  "qwertyuiop123",
  "letmein",
  "welcome",
  "welcome123",
  "iloveyou",
  "changeme",
  "changeme123",
  "administrator",
  "admin12345678",
  "mailward",
  "mailward123",
  "correcthorsebatterystaple",
  "trustno1",
  "superman123",
]);

/** The configurable part of the password policy (MAILWARD_PASSWORD_*). */
export interface PasswordPolicy {
  minLength: number;
  /** How many of lower, upper, digit, other must appear (0 = length alone decides, as NIST 800-63B suggests). */
  minClasses: number;
  maxLength: number;
}

/** The policy the server runs with. */
export function passwordPolicyFrom(config: Config): PasswordPolicy {
  return {
    minLength: config.MAILWARD_PASSWORD_MIN_LENGTH,
    minClasses: config.MAILWARD_PASSWORD_MIN_CLASSES,
    maxLength: 1024,
  };
}

/** Every rule a password breaks, readable by a person (empty: acceptable). */
export function passwordProblems(
  password: string,
  policy: PasswordPolicy,
  context: { email?: string } = {},
): string[] {
  const problems: string[] = [];
  if ([...password].length < policy.minLength) problems.push(`at least ${policy.minLength} characters`);
  if (password.length > policy.maxLength) problems.push(`at most ${policy.maxLength} characters`);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < policy.minClasses)
    problems.push(`at least ${policy.minClasses} of: lower case, upper case, digits, symbols`);
  const folded = password.toLowerCase().replace(/[\s_.-]+/g, "");
  if (COMMON.has(folded)) problems.push("not a commonly used password");
  if (/^(.)\1+$/.test(password)) problems.push("not one character repeated");
  const local = context.email?.split("@")[0]?.toLowerCase();
  if (local && local.length >= 4 && folded.includes(local.replace(/[\s_.-]+/g, "")))
    problems.push("not containing your email name");
  return problems;
}

/** Throws 400 password_too_weak, listing what to fix, unless the password meets the policy. */
export function assertPasswordAcceptable(
  password: string,
  policy: PasswordPolicy,
  context: { email?: string } = {},
): void {
  const problems = passwordProblems(password, policy, context);
  if (problems.length > 0) {
    throw new ApiError("password_too_weak", `The password must have ${problems.join("; ")}.`, { problems });
  }
}
