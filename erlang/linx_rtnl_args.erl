%% @doc The argument checks of {@link linx_rtnl_req}'s requests, made to
%% run one after another inside {@link checked/1}: each returns what it
%% checked or throws the reason it was given (`Bad'), and
%% {@link checked/1} turns the first throw into `{error, Reason}'. Names
%% are those of the names tables of {@link linx_rtnl_tables}.
-module(linx_rtnl_args).

-export([checked/1, ok_or_throw/1, ok_or_throw/2]).
-export([name/3, family/2, mask/3, name_text/3]).

-define(MSG, linx_rtnl_msg).

%%====================================================================
%% Running checks
%%====================================================================

%% @doc `Build()', or `{error, Reason}' when a check inside it threw
%% `Reason' (a thrown `{error, _}' is returned as it is).
-spec checked(fun(() -> T)) -> T | {error, term()}.
checked(Build) ->
    try
        Build()
    catch
        throw:{error, _} = Error -> Error;
        throw:Reason -> {error, Reason}
    end.

%% @doc An `{ok, _}' as it is; an `{error, _}' is thrown.
-spec ok_or_throw({ok, T} | {error, term()}) -> {ok, T}.
ok_or_throw({ok, _} = Ok) -> Ok;
ok_or_throw({error, _} = Error) -> throw(Error).

%% @doc An `{ok, _}' or `{ok, _, _}' as it is; anything else throws
%% `Reason'.
-spec ok_or_throw(term(), term()) -> {ok, term()} | {ok, term(), term()}.
ok_or_throw({ok, _} = Ok, _Reason) -> Ok;
ok_or_throw({ok, _, _} = Ok, _Reason) -> Ok;
ok_or_throw(_, Reason) -> throw(Reason).

%%====================================================================
%% Checks
%%====================================================================

%% @doc The number of a name of names table `Table' (or a number 0..255
%% as it is); anything else throws `Bad'.
-spec name(term(), atom(), term()) -> integer().
name(Name, Table, Bad) ->
    case linx_nl_values:number(Name, ?MSG:names(Table)) of
        {ok, N} when N >= 0, N =< 255 -> N;
        _ -> throw(Bad)
    end.

%% @doc An address family by name or number, as
%% {@link linx_nl_values:ip_bytes/1} names it (a number when it has no
%% name); anything else throws `Bad'.
-spec family(term(), term()) -> atom() | integer().
family(F, Bad) ->
    linx_nl_values:name(name(F, family, Bad), ?MSG:names(family)).

%% @doc The bit mask of a list of names of names table `Table'; anything
%% else throws `Bad'.
-spec mask(term(), atom(), term()) -> integer().
mask([], _Table, _Bad) ->
    0;
mask(Names, Table, Bad) when is_list(Names) ->
    case linx_nl_values:mask(Names, ?MSG:names(Table)) of
        {ok, Mask} -> Mask;
        error -> throw(Bad)
    end;
mask(_, _Table, Bad) ->
    throw(Bad).

%% @doc `T' as a binary when it is a name: text ({@link linx_opts:text/1})
%% of 1 to `Max' bytes without NUL (which would end the kernel's string
%% early); anything else throws `Bad'.
-spec name_text(term(), pos_integer(), term()) -> binary().
name_text(T, Max, Bad) ->
    case linx_opts:text(T) of
        {ok, Bin} when byte_size(Bin) >= 1, byte_size(Bin) =< Max ->
            case linx_opts:no_byte_of(Bin, 0, 0) of
                true -> Bin;
                false -> throw(Bad)
            end;
        _ ->
            throw(Bad)
    end.
