// Tagged templates for Preact (htm): markup without a JSX compile step or any eval.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
