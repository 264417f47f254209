// A non-empty string schema whose check is a function naming the problem (or undefined when fine),
// so the rule lives beside the code that renders the value and the message reaches the field.
import { z } from 'zod';

export const checkedString = (problemOf: (v: string) => string | undefined) =>
  z
    .string()
    .min(1)
    .superRefine((v, c) => {
      const problem = problemOf(v);
      if (problem) c.addIssue({ code: 'custom', message: problem });
    });
