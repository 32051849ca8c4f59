// The product a caller sends to `create`, checked by class-validator before the method runs (the
// marshmallow `Product` schema of the Python service; README.md says how the messages differ).
import { IsDefined, IsInt, IsString } from "class-validator";

/** A product as callers send it and as `get` and `list` return it. */
export class Product {
  @IsDefined()
  @IsString()
  id!: string;

  @IsDefined()
  @IsString()
  title!: string;

  @IsDefined()
  @IsInt()
  passenger_capacity!: number;

  @IsDefined()
  @IsInt()
  maximum_speed!: number;

  @IsDefined()
  @IsInt()
  in_stock!: number;
}
