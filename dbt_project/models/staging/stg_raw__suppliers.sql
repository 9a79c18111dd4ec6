-- Supplier master: one row per supplier_code, the latest delivery winning.
with

source as (

    select * from {{ source('raw', 'suppliers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by supplier_code
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        supplier_code,
        name as supplier_name,
        country as supplier_country,
        contact_email as supplier_contact_email,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
