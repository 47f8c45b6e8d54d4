// Department names by code, read once from the directories service: pages show 咸阳市生态环境局, not 610400-STHJ.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { DirectoriesService } from '@gen/suiji/directories/v1/directories_pb';
import { client } from '../api/client';

export const useDepartments = defineStore('departments', () => {
  const names = ref<Record<string, string>>({});
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= client(DirectoriesService)
      .listDepartments({ includeInactive: true })
      .then((answer) => {
        names.value = Object.fromEntries(answer.departments.map((d) => [d.code, d.name]));
      })
      .catch(() => {
        loading = null;
      });
    return loading;
  }

  /** The department's name, or its code while names are unknown. */
  function name(code: string): string {
    return names.value[code] ?? code;
  }

  return { names, load, name };
});
