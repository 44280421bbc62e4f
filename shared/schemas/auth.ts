import { z } from "zod";

/** Body of POST /api/auth/login. */
export const loginBody = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^[0-9]{6}$|^[A-Za-z0-9-]{8,20}$/, "a 6-digit code or a recovery code")
    .optional(),
});
/** Input of a local sign-in. */
export type LoginBody = z.infer<typeof loginBody>;

/** Answer of a successful sign-in. */
export const loginResponse = z.object({
  user: z.object({ id: z.string(), email: z.string(), displayName: z.string() }),
  csrfToken: z.string(),
});
