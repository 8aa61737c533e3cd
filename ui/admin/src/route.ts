/**
 * Which page shows: the path under `/admin/`, kept in the address bar so a page can be
 * bookmarked, reloaded and shared, and the browser's back button works.
 */
import { useCallback, useEffect, useState } from 'react';

/** The pages of the admin web. */
export const PAGES = ['today', 'reports', 'data', 'users', 'devices', 'rejections', 'exceptions', 'photos'] as const;
export type Page = (typeof PAGES)[number];

const BASE = '/admin/';

/** The page a path names (`/admin/today`); the first page for anything else. */
export function pageOf(path: string): Page {
  const name = path.startsWith(BASE) ? path.slice(BASE.length).split('/')[0] : '';
  return (PAGES as readonly string[]).includes(name ?? '') ? (name as Page) : 'today';
}

/** The address of a page. */
export function hrefOf(page: Page): string {
  return `${BASE}${page}`;
}

/** The current page, and a function that goes to another. */
export function useRoute(): [Page, (page: Page) => void] {
  const [page, setPage] = useState<Page>(() => pageOf(window.location.pathname));
  useEffect(() => {
    const back = () => setPage(pageOf(window.location.pathname));
    window.addEventListener('popstate', back);
    return () => window.removeEventListener('popstate', back);
  }, []);
  const go = useCallback((next: Page) => {
    if (hrefOf(next) !== window.location.pathname) window.history.pushState(null, '', hrefOf(next));
    setPage(next);
  }, []);
  return [page, go];
}
