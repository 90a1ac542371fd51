// Watches files and folders for edits and reports them once per burst (debounced). Files are
// watched through their parent folder so editors that save by rename (write a temp file, move
// it over) keep being seen. Used by config hot reload, plugin hot reload and units' `watch`.
import { type FSWatcher, statSync, watch } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"

export interface WatchHandle {
  close(): void
}

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs (default 50 ms). */
  readonly debounceMs?: number
  /** Called when a watcher fails (folder removed, too many watchers). */
  readonly onError?: (error: unknown) => void
  /**
   * Changes to these absolute paths are not reported, and ignored folders are not descended into
   * (Node's fs.watch `ignore`, where this Node has it; the events are filtered either way).
   */
  readonly ignore?: (path: string) => boolean
}

/** Whether `path` is a folder now (false when it is missing). */
export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * Watch `targets` (files or folders, watched recursively); `onChange` gets the changed paths, in
 * the order they first changed. Throws (with nothing left open) when a target cannot be watched.
 */
export const watchFiles = (
  targets: ReadonlyArray<string>,
  onChange: (paths: ReadonlyArray<string>) => void,
  options: WatchOptions = {},
): WatchHandle => {
  const debounceMs = options.debounceMs ?? 50
  const watchers: FSWatcher[] = []
  const changed = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const fire = () => {
    timer = undefined
    if (closed || changed.size === 0) return
    const paths = [...changed]
    changed.clear()
    onChange(paths)
  }
  const ignored = options.ignore ?? (() => false)
  const record = (path: string) => {
    if (closed || ignored(path)) return
    changed.add(path)
    if (timer) clearTimeout(timer)
    timer = setTimeout(fire, debounceMs)
  }

  const close = () => {
    closed = true
    if (timer) clearTimeout(timer)
    for (const w of watchers) w.close()
  }
  try {
    openWatchers(targets, watchers, record, options)
  } catch (error) {
    // A target that cannot be watched (its folder is missing): none of the others stay open.
    close()
    throw error
  }
  return { close }
}

/** One recursive watcher per folder, one per parent folder of watched files; into `watchers`. */
const openWatchers = (
  targets: ReadonlyArray<string>,
  watchers: FSWatcher[],
  record: (path: string) => void,
  options: WatchOptions,
): void => {
  const { ignore, onError } = options
  // Parent folders of watched files, each with the file names that matter in it.
  const fileDirs = new Map<string, Set<string>>()
  for (const target of new Set(targets.map((t) => resolve(t)))) {
    if (isDirectory(target)) {
      const watcher = watch(
        target,
        {
          recursive: true,
          ...(ignore === undefined ? {} : { ignore: (name: string) => ignore(join(target, name)) }),
        },
        (_event, name) => record(name ? join(target, name.toString()) : target),
      )
      watcher.on("error", (error) => onError?.(error))
      watchers.push(watcher)
    } else {
      const dir = dirname(target)
      const names = fileDirs.get(dir) ?? new Set<string>()
      names.add(basename(target))
      fileDirs.set(dir, names)
    }
  }
  for (const [dir, names] of fileDirs) {
    const watcher = watch(dir, (_event, name) => {
      if (name && names.has(name.toString())) record(join(dir, name.toString()))
    })
    watcher.on("error", (error) => onError?.(error))
    watchers.push(watcher)
  }
}
