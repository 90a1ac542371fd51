// What to do when Node loaded an ES module file as CommonJS (a .ts or .js file in a package
// without "type": "module", what `npm init -y` writes): Node's own error only says what broke.
// Plugins and agents say the same.

/** Node's words for an ES module file loaded, or required, as CommonJS. */
const asCommonJs =
  /Cannot use import statement outside a module|Unexpected token 'export'|Cannot require\(\) ES Module/

/** ` (Node loaded … as CommonJS: …)` for such an error of `file`, else "". */
export const commonJsHint = (message: string, file: string, then = ""): string =>
  asCommonJs.test(message) && /\.(ts|js)$/.test(file)
    ? ` (Node loaded ${file} as CommonJS: name it .mts or .mjs, or set "type": "module" in the package.json above it${then})`
    : ""
