/** A failure's message for people (`data-testid="error"` unless told otherwise); nothing when there is none. */
export function ErrorText({ message, testId = 'error' }: { message: string | null; testId?: string }) {
  if (!message) return null;
  return (
    <p className="error-text" role="alert" data-testid={testId}>
      {message}
    </p>
  );
}
