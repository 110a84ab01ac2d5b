/**
 * A page in sections, one shown at a time: tabs (arrow keys, Home and End move between them) over
 * one panel. The open section is in the address (`?section=`), so a reload or a shared link opens
 * the same one; the first section is the address without it.
 */
import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';

/** the section the address names, if it is one of `sections`, else the first; and a way to open another */
export function useSection<S extends string>(sections: readonly S[]): [S, (next: S) => void] {
  const [params, setParams] = useSearchParams();
  const asked = params.get('section');
  const first = sections[0]!;
  const section = (sections as readonly string[]).includes(asked ?? '') ? (asked as S) : first;
  const open = (next: S) => setParams(next === first ? {} : { section: next }, { replace: true });
  return [section, open];
}

export function Tabs<S extends string>({
  sections,
  current,
  label,
  labelOf,
  onOpen,
  className = 'tabs',
  children,
}: {
  sections: readonly S[];
  current: S;
  /** what the tabs are, for a screen reader */
  label: string;
  labelOf: (section: S) => ReactNode;
  onOpen: (section: S) => void;
  className?: string;
  /** the open section's panel */
  children: ReactNode;
}) {
  const id = useId();
  const tabs = useRef<Record<string, HTMLButtonElement | null>>({});

  function onKey(e: KeyboardEvent<HTMLButtonElement>) {
    const at = sections.indexOf(current);
    const n = sections.length;
    const to = e.key === 'ArrowRight' ? (at + 1) % n : e.key === 'ArrowLeft' ? (at - 1 + n) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    const next = sections[to]!;
    onOpen(next);
    tabs.current[next]?.focus();
  }

  return (
    <>
      <div role="tablist" aria-label={label} className={className}>
        {sections.map((s) => (
          <button
            key={s}
            ref={(el) => {
              tabs.current[s] = el;
            }}
            type="button"
            role="tab"
            id={`${id}-tab-${s}`}
            aria-selected={s === current}
            aria-controls={`${id}-panel`}
            tabIndex={s === current ? 0 : -1}
            onClick={() => onOpen(s)}
            onKeyDown={onKey}
          >
            {labelOf(s)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${current}`} className="tab-panel" tabIndex={-1}>
        {children}
      </div>
    </>
  );
}
