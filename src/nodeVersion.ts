// The first module the library evaluates (src/index.ts imports it first): on a Node older than SAM
// supports, one clear error saying what to do, instead of whatever built-in or API it lacks failing
// first. bin/sam.js says the same for the CLI before it loads anything.
const [major] = process.versions.node.split(".").map(Number)
if (major === undefined || major < 24)
  throw new Error(
    `SAM needs Node >= 24; this is Node ${process.versions.node}. Install Node 24 or later, or give ` +
      "this project its own: `npm install --save-dev node@26`, then run your program through npm " +
      "(an npm script or npx: npm puts node_modules/.bin first on PATH).",
  )
