import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Route } from '../router';
import { clearSession, Identity } from '../session';

const SECTIONS: { path: string; label: string; admin?: boolean }[] = [
  { path: 'models', label: 'Models' },
  { path: 'datasets', label: 'Datasets' },
  { path: 'training', label: 'Training' },
  { path: 'keys', label: 'API keys', admin: true },
];

/** The header, the sections a key may open, and the page; focus moves to a new page's heading. */
export function Layout({
  who,
  route,
  children,
}: {
  who: Identity;
  route: Route;
  children: ComponentChildren;
}) {
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.path]);
  const section = route.parts[0] ?? 'models';
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/models">
          ModelDock
        </a>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.filter((item) => !item.admin || who.role === 'admin').map((item) => (
              <li key={item.path}>
                <a
                  href={`#/${item.path}`}
                  aria-current={section === item.path ? 'page' : undefined}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {who.name} <span class="badge">{who.role}</span>
        </span>
        <button type="button" onClick={() => clearSession()}>
          Log out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A page's heading, focusable so that moving between pages tells a screen reader where it is. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  return <h1 tabIndex={-1}>{children}</h1>;
}
