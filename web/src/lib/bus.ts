/** A tiny synchronous event bus: components subscribe to the live events they care about. */
export interface Bus<E> {
  emit(event: E): void;
  /** Returns the unsubscribe function (an effect's cleanup). */
  subscribe(listener: (event: E) => void): () => void;
}

export function createBus<E>(): Bus<E> {
  const listeners = new Set<(event: E) => void>();
  return {
    emit(event) {
      for (const listener of [...listeners]) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
