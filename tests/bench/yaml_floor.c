/*
 * The floor for job loading in scripts/bench-job: libyaml composing the
 * file into a document (yaml_parser_load), which any reading of a job
 * must do, and nothing else: no checks, no copies, no plan.
 *
 *   bench-yaml-floor FILE.yaml
 */
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

int main(int argc, char **argv)
{
	yaml_parser_t p;
	yaml_document_t doc;
	FILE *f;
	unsigned char *text;
	size_t len;
	int nodes = 0;

	if (argc != 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: bench-yaml-floor FILE.yaml\n");
		return 2;
	}
	/* read whole, then parsed from memory, as drydock reads a job */
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	text = malloc(len + 1);
	if (!text || fread(text, 1, len, f) != len) {
		perror(argv[1]);
		return 1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, text, len);
	if (!yaml_parser_load(&p, &doc)) {
		fprintf(stderr, "%s: %s\n", argv[1], p.problem ? p.problem : "YAML error");
		return 1;
	}
	while (yaml_document_get_node(&doc, nodes + 1))
		nodes++;
	printf("%d nodes\n", nodes);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	fclose(f);
	free(text);
	return 0;
}
