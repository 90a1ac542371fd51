// The dashboard's entry: make the store, start following SAM, render the page into #app.
import { render } from "preact"
import { App } from "./app.tsx"
import { Live } from "./live.ts"
import { Store } from "./store.ts"
import { DashboardContext } from "./useStore.ts"
import "./styles.css"

const store = new Store()
const live = new Live(store)
live.start()
const root = document.getElementById("app")
if (root)
  render(
    <DashboardContext.Provider value={{ store, live }}>
      <App />
    </DashboardContext.Provider>,
    root,
  )
addEventListener("pagehide", () => live.close())
