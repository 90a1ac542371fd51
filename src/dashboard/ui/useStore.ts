// Components read the store through this hook: it re-renders them when the state changes.
import { createContext } from "preact"
import { useContext, useEffect, useState } from "preact/hooks"
import type { Live } from "./live.ts"
import type { State, Store } from "./store.ts"

export interface Dashboard {
  readonly store: Store
  readonly live: Live
}

export const DashboardContext = createContext<Dashboard | undefined>(undefined)

export const useDashboard = (): Dashboard => {
  const dashboard = useContext(DashboardContext)
  if (dashboard === undefined) throw new Error("useDashboard outside <DashboardContext.Provider>")
  return dashboard
}

/** The state, or the part `select` picks; re-renders when it changes. */
export const useStore = <A>(select: (state: State) => A): A => {
  const { store } = useDashboard()
  const [value, setValue] = useState(() => select(store.state))
  useEffect(() => {
    const check = () => setValue(() => select(store.state))
    check()
    return store.subscribe(check)
  }, [store])
  return value
}

/** Date.now(), updated every second (uptimes and "ago" count on between events). */
export const useNow = (): number => {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000)
    return () => clearInterval(timer)
  }, [])
  return now
}
