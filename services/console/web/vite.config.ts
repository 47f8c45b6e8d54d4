import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

// The console serves the build under /console/ from inside its binary; nothing is fetched from elsewhere at run
// time. During `npm run dev` the console's API is reached through the proxy below (SUIJI_CONSOLE=http://host:port).
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  resolve: { alias: { '@gen': fileURLToPath(new URL('./gen', import.meta.url)) } },
  build: {
    outDir: process.env.SUIJI_WEB_OUT ?? 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1500,
    // The module preload polyfill is an inline script; the Content-Security-Policy allows none.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/console/rpc': process.env.SUIJI_CONSOLE ?? 'http://127.0.0.1:56057',
      '/console/session': process.env.SUIJI_CONSOLE ?? 'http://127.0.0.1:56057',
      '/console/api': process.env.SUIJI_CONSOLE ?? 'http://127.0.0.1:56057',
    },
  },
});
