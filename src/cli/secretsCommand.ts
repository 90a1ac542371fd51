// `sam secrets set|get|list|rm` (described in commands.ts): manage the encrypted local vault that
// ${vault.key} references read. The vault location comes from the config (security.vault), else
// SAM_STATE_DIR or <cwd>/.sam.

import { join, resolve } from "node:path"
import { DEFAULT_STATE_DIR } from "../config/constants.ts"
import { configFilesIn } from "../config/defaultConfigFile.ts"
import { ConfigError, VaultError } from "../config/errors.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { openVault, SECRET_NAME, type VaultLocation } from "../config/vault.ts"
import {
  type CommandContext,
  type CommandRun,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  listOption,
  stringOption,
} from "./command.ts"
import { printConfigError } from "./configOptions.ts"

/**
 * Where the vault is: from the config when there is one (found as every command finds it), else
 * the defaults under SAM_STATE_DIR or <cwd>/.sam. Only the merged layers are read: the vault's
 * location needs no valid rest of the config.
 */
const locate = async ({ values, io }: CommandContext): Promise<VaultLocation | undefined> => {
  const configPath = stringOption(values, "config")
  if (configPath === undefined && configFilesIn(io.cwd).length === 0) {
    const named = io.env.SAM_STATE_DIR
    const stateDir = named ? resolve(io.cwd, named) : join(io.cwd, DEFAULT_STATE_DIR)
    return { path: join(stateDir, "vault.json"), keyFile: join(stateDir, "vault.key") }
  }
  const { readMergedConfig, vaultFilesOf } = await import("../config/mergedConfig.ts")
  try {
    const merged = await readMergedConfig({
      cwd: io.cwd,
      env: io.env,
      ...(configPath === undefined ? {} : { configPath }),
      cliOverrides: listOption(values, "set"),
    })
    const files = vaultFilesOf(merged)
    if (files === undefined)
      io.stderr(
        `sam: the config ${merged.configPath} gives security.vault.path and key_file no usable value (an absolute path, or one relative to the file, with no unresolved reference)\n`,
      )
    return files
  } catch (cause) {
    if (!(cause instanceof ConfigError)) throw cause
    printConfigError(io, cause)
    return undefined
  }
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

export const runSet: CommandRun = withVault(async ({ positionals, io }, location) => {
  const [name, given] = positionals as [string, string | undefined]
  // Before anything is read or written: a bad name creates no vault, no key and no state dir.
  if (!SECRET_NAME.test(name))
    throw new VaultError(`invalid secret name "${name}" (letters, digits, _ . / -)`)
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
})

export const runGet: CommandRun = withVault(async ({ positionals, io }, location) => {
  const name = positionals[0]!
  const vault = await openVault(location, io.env)
  const value = vault.get(name)
  if (value === undefined) {
    io.stderr(`sam: no secret "${name}" in ${location.path}${suggestionSuffix(name, vault.keys())}\n`)
    return EXIT_FAILURE
  }
  io.stdout(`${value}\n`)
  return EXIT_OK
})

export const runList: CommandRun = withVault(async ({ io }, location) => {
  const vault = await openVault(location, io.env)
  const keys = vault.keys()
  if (keys.length === 0) io.stderr(`no secrets in ${location.path}\n`)
  for (const key of keys) io.stdout(`${key}\n`)
  return EXIT_OK
})

export const runRm: CommandRun = withVault(async ({ positionals, io }, location) => {
  const name = positionals[0]!
  const vault = await openVault(location, io.env)
  if (!(await vault.remove(name))) {
    io.stderr(`sam: no secret "${name}" in ${location.path}${suggestionSuffix(name, vault.keys())}\n`)
    return EXIT_FAILURE
  }
  io.stdout(`removed "${name}"\n`)
  return EXIT_OK
})
