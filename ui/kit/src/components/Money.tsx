import { formatMoney } from '../money';

/** An amount of rupiah as `Rp 5.000`, right-aligned digits, negatives marked for styling. */
export function Money({
  amount,
  testId,
  className,
}: {
  amount: number;
  testId?: string;
  className?: string;
}) {
  const classes = ['money', amount < 0 ? 'money-negative' : '', className ?? '']
    .filter(Boolean)
    .join(' ');
  return (
    <span className={classes} data-testid={testId}>
      {formatMoney(amount)}
    </span>
  );
}
