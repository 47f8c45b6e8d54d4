// The pages, under /console/. A page's filters live in its URL, so a link shares the view.
import { createRouter, createWebHistory } from 'vue-router';
import { useSession } from './api/session';

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/', redirect: '/work' },
    { path: '/work', name: 'work', component: () => import('./views/WorkPage.vue') },
    { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignInPage.vue'), meta: { public: true } },
    { path: '/sagas', name: 'sagas', component: () => import('./views/SagasPage.vue') },
    { path: '/sagas/:task', name: 'saga', component: () => import('./views/SagaPage.vue'), props: true },
    { path: '/import', name: 'import', component: () => import('./views/ImportPage.vue') },
    { path: '/results', name: 'results', component: () => import('./views/results/ResultsPage.vue') },
    { path: '/results/:id', name: 'result', component: () => import('./views/results/ResultPage.vue'), props: true },
    { path: '/reports', name: 'reports', component: () => import('./views/reports/ReportsPage.vue') },
    { path: '/accounts', name: 'accounts', component: () => import('./views/admin/AccountsPage.vue') },
    { path: '/audit', name: 'audit', component: () => import('./views/admin/AuditPage.vue') },
    { path: '/deliveries', name: 'deliveries', component: () => import('./views/admin/DeliveriesPage.vue') },
    { path: '/plans', name: 'plans', component: () => import('./views/plans/PlansPage.vue') },
    { path: '/coverage', name: 'coverage', component: () => import('./views/plans/CoveragePage.vue') },
    { path: '/plans/new', name: 'plan-new', component: () => import('./views/plans/PlanEditor.vue') },
    { path: '/plans/:id', name: 'plan', component: () => import('./views/plans/PlanPage.vue'), props: true },
    { path: '/plans/:id/edit', name: 'plan-edit', component: () => import('./views/plans/PlanEditor.vue'), props: true },
    {
      path: '/plans/:id/amend',
      name: 'plan-amend',
      component: () => import('./views/plans/PlanEditor.vue'),
      props: (r) => ({ id: r.params.id, amend: true }),
    },
    { path: '/draws', name: 'draws', component: () => import('./views/draws/DrawsPage.vue') },
    { path: '/draws/:task', name: 'draw', component: () => import('./views/draws/DrawPage.vue'), props: true },
    { path: '/directories', name: 'directories', component: () => import('./views/directories/DirectoriesPage.vue') },
    { path: '/directories/targets/:id', name: 'target', component: () => import('./views/directories/TargetPage.vue'), props: true },
    { path: '/catalog', name: 'catalog', component: () => import('./views/catalog/CatalogPage.vue') },
    { path: '/catalog/new', name: 'item-new', component: () => import('./views/catalog/ItemEditor.vue') },
    { path: '/catalog/:code', name: 'item', component: () => import('./views/catalog/ItemPage.vue'), props: true },
    { path: '/catalog/:code/edit', name: 'item-edit', component: () => import('./views/catalog/ItemEditor.vue'), props: true },
    { path: '/:rest(.*)*', redirect: '/work' },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const session = useSession();
  if (!session.me && !(await session.load())) {
    return { name: 'sign-in', query: { next: to.fullPath } };
  }
  return true;
});
