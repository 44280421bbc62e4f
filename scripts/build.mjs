// `npm run build`: the add-in and portal into dist/ (webpack, production mode), with the stamp of what they were built
// from, which `npm start` and the browser tests read (scripts/build-stamp.mjs).
import path from "node:path";
import { buildProduction } from "./build-stamp.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
process.exit(buildProduction(root, process.env));
