-- Supplier master as of the latest delivery of each supplier_code.
with

suppliers as (

    select * from {{ ref('stg_raw__suppliers') }}

),

final as (

    select
        supplier_code,
        supplier_name,
        supplier_country,
        supplier_contact_email,
        landing_date
    from suppliers

)

select * from final
