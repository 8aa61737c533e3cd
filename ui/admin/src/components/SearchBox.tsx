/** The search field of a paged list: typing searches from the first page again. */
export function SearchBox({
  value,
  label,
  testId,
  onSearch,
}: {
  value: string;
  label: string;
  testId: string;
  /** The new text; the list goes back to its first page. */
  onSearch: (text: string) => void;
}) {
  return (
    <input
      className="input"
      type="search"
      data-testid={testId}
      placeholder={label}
      aria-label={label}
      value={value}
      onChange={(e) => onSearch(e.target.value)}
    />
  );
}
