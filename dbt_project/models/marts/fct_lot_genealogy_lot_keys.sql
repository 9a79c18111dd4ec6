-- Where a trace starts: every lot's code and surrogate key, sorted by a number made from the
-- code. A DuckDB zone map keeps only an 8-byte prefix of a string, and many lot codes share
-- theirs (site, date), so a lookup by code in dim_lots reads many row groups; sorted by
-- lot_code_key, the recall macros find the lot they are given in one.
-- A lot's id never changes (int_lot_ids_assigned), so a run adds the lots it sees first.
{{ lot_diff_config(unique_key=['lot_code'], sorted_by=['lot_code_key', 'lot_code'], lot_columns=['lot_code']) }}
with

lots as (

    select * from {{ ref('dim_lots') }}
    where {{ of_changed_lots('lot_code') }}

),

final as (

    select
        -- md5 is the same in every DuckDB version, unlike hash(), and the macros compute it
        -- in whichever client calls them
        md5_number_upper(lot_code) as lot_code_key,
        lot_id,
        lot_code
    from lots

)

select * from final
order by lot_code_key, lot_code
