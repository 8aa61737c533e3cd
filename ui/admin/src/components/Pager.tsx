/** "1–100 of 283" with previous and next, for a listing paged by offset. */
import { groupThousands } from '@lapak/kit';
import { useT } from '../i18n';

export function Pager({
  offset,
  shown,
  total,
  pageSize,
  onOffset,
}: {
  offset: number;
  shown: number;
  total: number;
  pageSize: number;
  onOffset: (offset: number) => void;
}) {
  const { t } = useT();
  return (
    <div className="pager" data-testid="pager">
      <span className="muted" data-testid="pager-range">
        {total === 0
          ? t('common.noRows')
          : t('common.range', {
              from: groupThousands(offset + 1),
              to: groupThousands(offset + shown),
              total: groupThousands(total),
            })}
      </span>
      <button
        type="button"
        className="button"
        data-testid="pager-previous"
        disabled={offset === 0}
        onClick={() => onOffset(Math.max(0, offset - pageSize))}
      >
        {t('common.previous')}
      </button>
      <button
        type="button"
        className="button"
        data-testid="pager-next"
        disabled={offset + shown >= total}
        onClick={() => onOffset(offset + pageSize)}
      >
        {t('common.next')}
      </button>
    </div>
  );
}
