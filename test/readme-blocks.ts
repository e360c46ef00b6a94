/** Reading the README the way the packaging test runs it: its sections and fenced code blocks. */

/** One fenced code block: its language tag and its text (without the fences). */
export interface CodeBlock {
  lang: string;
  code: string;
}

/** The text of the `## title` section, up to the next `## ` heading. */
export function readmeSection(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** Every fenced (```) code block of a markdown text, in order. */
export function readmeCodeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) blocks.push({ lang: m[1], code: m[2] });
  return blocks;
}
