import { afterEach } from "vitest";
import { unmountAll } from "./render";

// Every add-in test's rendered trees come down after it, so no file repeats the clean-up (and none forgets it).
afterEach(unmountAll);
