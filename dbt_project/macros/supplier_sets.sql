-- sqlfluff:exclude_rules:layout.indent
-- (the indent rule misreads the whitespace around these macro definitions)
{#- Pre-hook of rpt_lot_supplier_sets: a lot's supplier set is its own supplier's (a received
    lot) and its inputs', so the sets that can change are those of the changed lots and of
    every lot downstream of one. They are kept in recomputed_lots_table() for the model and
    deleted; every set is, when every lot changed. -#}
{% macro delete_supplier_sets_of_changed_lots() -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        {{ fix_changed_lots() }};

        create or replace temp table {{ recomputed_lots_table() }} as
        with recursive

        downstream (lot_id) as (
            select lot_ids.lot_id
            from {{ ref('int_lot_ids_assigned') }} as lot_ids
            where lot_ids.lot_code in (select changed.lot_code from {{ changed_lots_table() }} as changed)
            union
            select lot_genealogy.output_lot_id
            from downstream
            inner join {{ ref('fct_lot_genealogy') }} as lot_genealogy
                on downstream.lot_id = lot_genealogy.input_lot_id
        )

        select lot_id from downstream;

        delete from {{ this }}
        where lot_id in (select recomputed.lot_id from {{ recomputed_lots_table() }} as recomputed)
    {%- elif building_incrementally() -%}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{% macro recomputed_lots_table() -%}
    recomputed_lots__{{ this.name }}
{%- endmacro %}


{#- Post-hook of rpt_supplier_bits: a build of the whole register numbers the suppliers afresh;
    the sets stored under the old numbers are dropped, so that rpt_lot_supplier_sets is built
    whole after it. (Not a ref: the sets are built from the register, not the other way.) -#}
{% macro drop_supplier_sets_if_renumbered() -%}
    {%- if building_incrementally() -%}
        select 1
    {%- else -%}
        drop table if exists {{ this.schema }}.rpt_lot_supplier_sets
    {%- endif -%}
{%- endmacro %}
