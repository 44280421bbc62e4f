import { makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import { useRef, type KeyboardEvent, type ReactNode } from "react";

const useStyles = makeStyles({
  list: { display: "flex", flexWrap: "wrap", columnGap: tokens.spacingHorizontalXXS },
  tab: {
    display: "inline-flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalS}`,
    background: "none",
    border: "none",
    borderBottom: `3px solid transparent`,
    color: tokens.colorNeutralForeground2,
    fontFamily: tokens.fontFamilyBase,
    fontSize: tokens.fontSizeBase300,
    cursor: "pointer",
    ":hover": { color: tokens.colorNeutralForeground1 },
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" },
    "@media (forced-colors: active)": { borderBottomColor: "Canvas" },
    "@media (max-width: 360px)": {
      fontSize: tokens.fontSizeBase200,
      padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    },
  },
  selected: {
    color: tokens.colorNeutralForeground1,
    fontWeight: tokens.fontWeightSemibold,
    borderBottomColor: tokens.colorCompoundBrandStroke,
    "@media (forced-colors: active)": { borderBottomColor: "Highlight" },
  },
});

/** One tab: its value, visible content, and a test id. */
export interface TabItem<V extends string> {
  value: V;
  content: ReactNode;
  /** Accessible name when the content is not plain text (e.g. includes a count badge). */
  ariaLabel?: string;
  testId?: string;
}

/**
 * A WAI-ARIA tab list with a roving tabindex (arrow keys, Home, End). Used instead of Fluent's TabList,
 * whose focus-trap sentinels (`<i aria-hidden tabindex=0>`) trip axe's aria-hidden-focus rule.
 */
export function Tabs<V extends string>(props: {
  items: TabItem<V>[];
  selected: V;
  onSelect: (value: V) => void;
  label: string;
  panelId?: string;
  className?: string;
}) {
  const styles = useStyles();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const move = (event: KeyboardEvent, index: number) => {
    const last = props.items.length - 1;
    const next =
      event.key === "ArrowRight" || event.key === "ArrowDown"
        ? index === last
          ? 0
          : index + 1
        : event.key === "ArrowLeft" || event.key === "ArrowUp"
          ? index === 0
            ? last
            : index - 1
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? last
              : null;
    if (next === null) return;
    event.preventDefault();
    refs.current[next]?.focus();
    const item = props.items[next];
    if (item) props.onSelect(item.value);
  };
  return (
    <div role="tablist" aria-label={props.label} className={mergeClasses(styles.list, props.className)}>
      {props.items.map((item, index) => {
        const selected = item.value === props.selected;
        return (
          <button
            key={item.value}
            ref={(element) => {
              refs.current[index] = element;
            }}
            type="button"
            role="tab"
            aria-selected={selected}
            aria-controls={props.panelId}
            aria-label={item.ariaLabel}
            tabIndex={selected ? 0 : -1}
            className={mergeClasses(styles.tab, selected && styles.selected)}
            data-testid={item.testId}
            onClick={() => props.onSelect(item.value)}
            onKeyDown={(event) => move(event, index)}
          >
            {item.content}
          </button>
        );
      })}
    </div>
  );
}
