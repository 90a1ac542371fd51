// The local secrets vault: a JSON file whose entries are AES-256-GCM encrypted (random 12-byte IV
// each, the entry name as associated data) under a key derived with scrypt from SAM_VAULT_KEY or a
// 0600 key file. Used by secrets.ts (${vault.key} references) and `sam secrets`.

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto"
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { isVaultError, VaultError } from "./errors.ts"

export const VAULT_KEY_ENV = "SAM_VAULT_KEY"
export const SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/

export interface VaultLocation {
  /** The encrypted vault file. */
  readonly path: string
  /** The key file (used when SAM_VAULT_KEY is not set). */
  readonly keyFile: string
}

interface Sealed {
  readonly iv: string
  readonly tag: string
  readonly data: string
}

interface VaultFile {
  readonly version: 1
  readonly cipher: "aes-256-gcm"
  readonly kdf: {
    readonly name: "scrypt"
    readonly salt: string
    readonly N: number
    readonly r: number
    readonly p: number
  }
  /** "sam-vault" sealed under the key: tells a wrong key apart from a corrupt entry. */
  readonly check: Sealed
  readonly entries: Record<string, Sealed>
}

export interface Vault {
  readonly location: VaultLocation
  /** False until the first secret is stored. */
  readonly exists: boolean
  /** Set when this call created the key file. */
  readonly createdKeyFile: boolean
  readonly keys: () => ReadonlyArray<string>
  readonly get: (name: string) => string | undefined
  readonly set: (name: string, value: string) => Promise<void>
  readonly remove: (name: string) => Promise<boolean>
}

const CHECK_TEXT = "sam-vault"
const SCRYPT = { N: 2 ** 14, r: 8, p: 1 } as const

const seal = (key: Buffer, aad: string, plain: string): Sealed => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", key, iv)
  cipher.setAAD(Buffer.from(aad))
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()])
  return {
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  }
}

const unseal = (key: Buffer, aad: string, sealed: Sealed): string => {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(Buffer.from(sealed.tag, "base64"))
  return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString(
    "utf8",
  )
}

const entryAad = (name: string): string => `sam-vault:v1:${name}`

const errno = (cause: unknown): string | undefined => (cause as NodeJS.ErrnoException | undefined)?.code

/** Reads the key material, refusing a key file that others can read. */
const readKeyMaterial = async (
  location: VaultLocation,
  env: Readonly<Record<string, string | undefined>>,
  create: boolean,
): Promise<{ material: string; created: boolean }> => {
  const fromEnv = env[VAULT_KEY_ENV]
  if (fromEnv !== undefined && fromEnv !== "") return { material: fromEnv, created: false }
  try {
    const info = await stat(location.keyFile)
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0")
      throw new VaultError(
        `vault key file ${location.keyFile} has mode ${mode}; it must be readable by its owner only (chmod 600 ${location.keyFile})`,
      )
    }
    const material = (await readFile(location.keyFile, "utf8")).trim()
    if (material === "") throw new VaultError(`vault key file ${location.keyFile} is empty`)
    return { material, created: false }
  } catch (cause) {
    if (isVaultError(cause)) throw cause
    if (errno(cause) !== "ENOENT")
      throw new VaultError(`cannot read vault key file ${location.keyFile} (${errno(cause)})`)
  }
  if (!create) {
    throw new VaultError(
      `no vault key: set ${VAULT_KEY_ENV} or create the key file ${location.keyFile} (\`sam secrets set\` creates one)`,
    )
  }
  const material = randomBytes(32).toString("base64url")
  await mkdir(dirname(location.keyFile), { recursive: true, mode: 0o700 })
  await writeFile(location.keyFile, `${material}\n`, { mode: 0o600, flag: "wx" })
  return { material, created: true }
}

const parseVaultFile = (text: string, path: string): VaultFile => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new VaultError(`vault file ${path} is not valid JSON`)
  }
  const file = parsed as Partial<VaultFile> | null
  if (
    file?.version !== 1 ||
    file.kdf?.name !== "scrypt" ||
    typeof file.entries !== "object" ||
    file.check === undefined
  ) {
    throw new VaultError(`vault file ${path} is not a SAM vault (version 1)`)
  }
  return file as VaultFile
}

const writeAtomically = async (path: string, content: string): Promise<void> => {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, content, { mode: 0o600 })
  await rename(tmp, path)
}

/**
 * Opens the vault. A vault file that does not exist reads as empty and needs no key; `create`
 * (used by `sam secrets set`) generates a key file with mode 0600 when there is no key at all.
 */
export const openVault = async (
  location: VaultLocation,
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly create?: boolean } = {},
): Promise<Vault> => {
  let text: string | undefined
  try {
    text = await readFile(location.path, "utf8")
  } catch (cause) {
    if (errno(cause) !== "ENOENT")
      throw new VaultError(`cannot read vault file ${location.path} (${errno(cause)})`)
  }
  let file = text === undefined ? undefined : parseVaultFile(text, location.path)
  let key: Buffer | undefined
  let createdKeyFile = false

  const unlock = async (create: boolean): Promise<Buffer> => {
    if (key !== undefined) return key
    const { material, created } = await readKeyMaterial(location, env, create)
    createdKeyFile = created
    const salt = file === undefined ? randomBytes(16) : Buffer.from(file.kdf.salt, "base64")
    const params = file?.kdf ?? SCRYPT
    const derived = scryptSync(material, salt, 32, {
      N: params.N,
      r: params.r,
      p: params.p,
      maxmem: 256 * params.N * params.r,
    })
    if (file === undefined) {
      file = {
        version: 1,
        cipher: "aes-256-gcm",
        kdf: { name: "scrypt", salt: salt.toString("base64"), ...SCRYPT },
        check: seal(derived, entryAad(""), CHECK_TEXT),
        entries: {},
      }
    } else {
      let ok = false
      try {
        ok = unseal(derived, entryAad(""), file.check) === CHECK_TEXT
      } catch {
        ok = false
      }
      if (!ok) {
        const source = env[VAULT_KEY_ENV] ? VAULT_KEY_ENV : `key file ${location.keyFile}`
        throw new VaultError(`the vault key (${source}) does not open vault file ${location.path}`)
      }
    }
    key = derived
    return derived
  }

  if (file !== undefined || options.create === true) await unlock(options.create === true)

  const save = async () => {
    if (file !== undefined) await writeAtomically(location.path, `${JSON.stringify(file, null, 2)}\n`)
  }

  return {
    location,
    get exists() {
      return text !== undefined
    },
    get createdKeyFile() {
      return createdKeyFile
    },
    keys: () => Object.keys(file?.entries ?? {}).sort(),
    get: (name) => {
      const sealed = file?.entries[name]
      if (sealed === undefined || key === undefined) return undefined
      try {
        return unseal(key, entryAad(name), sealed)
      } catch {
        throw new VaultError(`vault entry "${name}" in ${location.path} is corrupt`)
      }
    },
    set: async (name, value) => {
      if (!SECRET_NAME.test(name))
        throw new VaultError(`invalid secret name "${name}" (letters, digits, _ . / -)`)
      const derived = await unlock(true)
      if (file === undefined) throw new VaultError("vault not initialized")
      file = { ...file, entries: { ...file.entries, [name]: seal(derived, entryAad(name), value) } }
      await save()
      text = ""
    },
    remove: async (name) => {
      if (file?.entries[name] === undefined) return false
      const { [name]: _removed, ...rest } = file.entries
      file = { ...file, entries: rest }
      await save()
      return true
    },
  }
}
