// A command word that holds a shell operator (`sam 'ps|grep web'`, `sam "ps && ls"`): quoted, the
// shell passed the whole line to sam as one argument instead of running it. The unknown-command
// error says so, and how the line reads unquoted, rather than a did-you-mean for `ps|grep`.

/** The shell's control and redirection operators, longest first. */
const operator = /\|\||&&|>>|[|&;<>]/

/**
 * `: it looks like a shell pipeline ...` for a command word `word` (under `path`, as `["secrets"]`)
 * that holds a shell operator, else "". `names`: the commands there, to show the line unquoted
 * when it starts with one.
 */
export const shellLineHint = (
  word: string,
  path: ReadonlyArray<string>,
  names: ReadonlyArray<string>,
): string => {
  const found = operator.exec(word)
  if (found === null) return ""
  const head = word.slice(0, found.index).trim()
  const rest = word.slice(found.index + found[0].length).trim()
  const unquoted = names.includes(head.split(/\s+/)[0] ?? "")
    ? `: sam ${[...path, head].join(" ")} ${found[0]}${rest === "" ? "" : ` ${rest}`}`
    : ""
  return (
    `: it looks like a shell pipeline passed as one argument (a shell runs '${found[0]}' only ` +
    `outside quotes)${unquoted}`
  )
}
