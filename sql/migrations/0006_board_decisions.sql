-- Reserved for the board decisions migration, which takes this number.
SELECT 1;
