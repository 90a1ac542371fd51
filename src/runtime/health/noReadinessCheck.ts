// The reason an instance with no readiness check is ready at once: nothing was checked, so the
// surfaces say it started ("started web pid 1", "web is running (no readiness check)"), not that
// it is ready. No imports: the CLI's client commands read it too.
export const noReadinessCheck = "no readiness check configured"
