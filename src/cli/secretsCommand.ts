// `sam secrets set|get|list|rm`: manage the encrypted local vault that ${vault.key} references read.
// The vault location comes from the config (security.vault), else <cwd>/.sam.

import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR } from "../config/constants.ts"
import { VaultError } from "../config/errors.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { openVault, VAULT_KEY_ENV, type VaultLocation } from "../config/vault.ts"
import {
  type Command,
  type CommandContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  stringOption,
} from "./command.ts"
import { configOption, loadFromOptions } from "./configOptions.ts"

const options = { config: configOption }

/** Where the vault is: from the config when there is one, else the defaults under <cwd>/.sam. */
const locate = async ({ values, io }: CommandContext): Promise<VaultLocation | undefined> => {
  if (stringOption(values, "config") === undefined && !existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE))) {
    const stateDir = join(io.cwd, DEFAULT_STATE_DIR)
    return { path: join(stateDir, "vault.json"), keyFile: join(stateDir, "vault.key") }
  }
  const loaded = await loadFromOptions(io, values, { secrets: "lenient" })
  const vault = loaded?.config.security.vault
  if (vault?.path === undefined || vault.key_file === undefined) return undefined
  return { path: vault.path, keyFile: vault.key_file }
}

/** Runs `body` with the vault location; config and vault problems exit 2. */
const withVault =
  (body: (ctx: CommandContext, location: VaultLocation) => Promise<number>) =>
  async (ctx: CommandContext): Promise<number> => {
    const location = await locate(ctx)
    if (location === undefined) return EXIT_USAGE
    try {
      return await body(ctx, location)
    } catch (cause) {
      if (!(cause instanceof VaultError)) throw cause
      ctx.io.stderr(`sam: ${cause.message}\n`)
      return EXIT_USAGE
    }
  }

const setCommand: Command = {
  name: "set",
  args: "<key> [value]",
  summary: "Store a secret (value read from stdin when omitted)",
  description:
    "Store a secret in the vault, encrypted with AES-256-GCM. Without a value it is read from\n" +
    `stdin (safer: it stays out of shell history). The key comes from ${VAULT_KEY_ENV} or the key\n` +
    "file (mode 0600); when neither exists a new key file is created.",
  options,
  positionals: { min: 1, max: 2 },
  run: withVault(async ({ positionals, io }, location) => {
    const [name, given] = positionals as [string, string | undefined]
    let value = given
    if (value === undefined) {
      if (io.stdinIsTTY) io.stderr(`value for "${name}" (end with Ctrl-D): `)
      value = (await io.readStdin()).replace(/\r?\n$/, "")
    }
    const vault = await openVault(location, io.env, { create: true })
    await vault.set(name, value)
    if (vault.createdKeyFile) {
      io.stderr(
        `created vault key file ${location.keyFile} (mode 0600); keep it safe: the vault cannot be read without it\n`,
      )
    }
    io.stdout(`stored "${name}" in ${location.path}\n`)
    return EXIT_OK
  }),
}

const getCommand: Command = {
  name: "get",
  args: "<key>",
  summary: "Print a secret's value",
  options,
  positionals: { min: 1, max: 1 },
  run: withVault(async ({ positionals, io }, location) => {
    const name = positionals[0]!
    const vault = await openVault(location, io.env)
    const value = vault.get(name)
    if (value === undefined) {
      io.stderr(`sam: no secret "${name}" in ${location.path}${suggestionSuffix(name, vault.keys())}\n`)
      return EXIT_FAILURE
    }
    io.stdout(`${value}\n`)
    return EXIT_OK
  }),
}

const listCommand: Command = {
  name: "list",
  summary: "List the names of stored secrets (never their values)",
  options,
  run: withVault(async ({ io }, location) => {
    const vault = await openVault(location, io.env)
    const keys = vault.keys()
    if (keys.length === 0) io.stderr(`no secrets in ${location.path}\n`)
    for (const key of keys) io.stdout(`${key}\n`)
    return EXIT_OK
  }),
}

const rmCommand: Command = {
  name: "rm",
  args: "<key>",
  summary: "Remove a secret",
  options,
  positionals: { min: 1, max: 1 },
  run: withVault(async ({ positionals, io }, location) => {
    const name = positionals[0]!
    const vault = await openVault(location, io.env)
    if (!(await vault.remove(name))) {
      io.stderr(`sam: no secret "${name}" in ${location.path}${suggestionSuffix(name, vault.keys())}\n`)
      return EXIT_FAILURE
    }
    io.stdout(`removed "${name}"\n`)
    return EXIT_OK
  }),
}

export const secretsCommand: Command = {
  name: "secrets",
  summary: "Manage the encrypted secrets vault (set, get, list, rm)",
  description:
    `Manage the encrypted local vault read by \${vault.key} references in the config.\n` +
    `The vault is security.vault.path (default <state_dir>/vault.json); its key is ${VAULT_KEY_ENV}\n` +
    "or security.vault.key_file (default <state_dir>/vault.key, must be mode 0600).",
  subcommands: [setCommand, getCommand, listCommand, rmCommand],
}
