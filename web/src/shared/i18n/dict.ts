/** The Swedish messages must have exactly the English keys: the type checker holds them together. */
export type Dict<T> = { [K in keyof T]: T[K] extends string ? string : Dict<T[K]> };
