// What Vite adds to imports that TypeScript does not know: stylesheets imported for their effect.
declare module "*.css" {}
