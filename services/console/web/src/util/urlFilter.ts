// A list page's filters, kept in the URL's query so a link shares the view.
import { computed } from 'vue';
import { useRoute, useRouter } from 'vue-router';

export function useUrlFilter() {
  const route = useRoute();
  const router = useRouter();
  /** The text of one query parameter ('' when absent). */
  const param = (key: string) => (typeof route.query[key] === 'string' ? (route.query[key] as string) : '');
  /** Changes some parameters; an empty or undefined value removes one. */
  function set(change: Record<string, string | undefined>) {
    const query = { ...route.query, ...change };
    for (const k of Object.keys(query)) if (!query[k]) delete query[k];
    void router.replace({ query });
  }
  return { param, set, query: computed(() => route.query) };
}
