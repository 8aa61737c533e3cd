/**
 * Rupiah as people read it. Every amount was computed in Rust; this only writes it down
 * (`Rp 5.000`, `-Rp 5.000`: Indonesian grouping with dots, no decimals, in every UI language)
 * and reads back what a cashier typed into a money field.
 */

/** `Rp 5.000`; negative amounts `-Rp 5.000`. Whole rupiah: a fraction is rounded. */
export function formatMoney(amount: number): string {
  if (!Number.isFinite(amount)) return 'Rp -';
  const whole = Math.round(Math.abs(amount));
  const sign = amount < 0 && whole !== 0 ? '-' : '';
  return `${sign}Rp ${groupThousands(whole)}`;
}

/** `1234567` → `1.234.567`. */
export function groupThousands(whole: number): string {
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/**
 * What a cashier typed into a money field (`50000`, `50.000`, `Rp 50.000`) as whole rupiah;
 * `null` when it is empty or not a whole, non-negative amount.
 */
export function parseRupiah(text: string): number | null {
  const cleaned = text.trim().replace(/^rp\.?\s*/i, '').replace(/[.\s]/g, '');
  if (!/^\d{1,15}$/.test(cleaned)) return null;
  return Number(cleaned);
}

/** A whole quantity typed into a field; `null` when it is not a whole number ≥ 0. */
export function parseQty(text: string): number | null {
  const cleaned = text.trim();
  if (!/^\d{1,9}$/.test(cleaned)) return null;
  return Number(cleaned);
}
