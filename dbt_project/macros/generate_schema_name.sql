{#- Custom schemas are used verbatim (staging, intermediate, main), not prefixed with the
    target schema, so the marts sit in main where readers and the recall macros expect them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
